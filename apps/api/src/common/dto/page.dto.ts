import { Type as NestType } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Page } from '@gridline/db';

export class PageQueryDto {
  @ApiPropertyOptional({ type: Number, default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit = 50;

  @ApiPropertyOptional({ type: Number, default: 0, minimum: 0, maximum: 1000000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset = 0;
}

/** One page of an offset-paginated list. */
export interface PageDto<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** The response class of a list of `Item`s, named `name` in the OpenAPI document. */
export function PageOf<T>(item: NestType<T>, name: string): NestType<PageDto<T>> {
  class ItemPage implements PageDto<T> {
    @ApiProperty({ type: [item] })
    items!: T[];

    @ApiProperty({ description: 'Rows matching the filter, on all pages' })
    total!: number;

    @ApiProperty()
    limit!: number;

    @ApiProperty()
    offset!: number;
  }
  Object.defineProperty(ItemPage, 'name', { value: name });
  return ItemPage;
}

/** A page of records as a page of response DTOs. */
export function toPageDto<R, T>(page: Page<R>, map: (record: R) => T): PageDto<T> {
  return { items: page.items.map(map), total: page.total, limit: page.limit, offset: page.offset };
}
