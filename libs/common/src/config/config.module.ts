import { DynamicModule, Module } from '@nestjs/common';

/** Provides one app's validated config instance (loaded in `main.ts`) under its class. */
@Module({})
export class TypedConfigModule {
  static forRoot<T extends object>(cls: abstract new () => T, config: T): DynamicModule {
    return { module: TypedConfigModule, global: true, providers: [{ provide: cls, useValue: config }], exports: [cls] };
  }
}
