import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ModelCatalogController, ModelPresetsController } from './models.controller';
import { ModelStore } from './model-store';
import { ModelsService } from './models.service';

/** The model catalog under /api/v1/models. */
@Module({
  imports: [AuditModule],
  controllers: [ModelCatalogController, ModelPresetsController],
  providers: [ModelsService, ModelStore],
})
export class ModelCatalogModule {}
