import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { NumericParameter, OpenAiSamplingFields, SAMPLING_PARAMETERS } from '@gridline/contract';

/**
 * A DTO base class with one optional, validated and documented field per sampling parameter
 * of the inference contract, under its OpenAI name. Derived from the contract's table: a new
 * parameter there is a new field here without touching this file.
 */
export function SamplingFields(): new () => OpenAiSamplingFields {
  class Sampling {}
  const proto = Sampling.prototype;
  for (const spec of Object.values(SAMPLING_PARAMETERS) as NumericParameter[]) {
    const key = spec.openai;
    IsOptional()(proto, key);
    (spec.integer ? IsInt() : IsNumber({ allowNaN: false, allowInfinity: false }))(proto, key);
    Min(spec.min)(proto, key);
    Max(spec.max)(proto, key);
    ApiPropertyOptional({ type: spec.integer ? 'integer' : 'number', minimum: spec.min, maximum: spec.max, default: spec.default, description: spec.description })(proto, key);
  }
  return Sampling as new () => OpenAiSamplingFields;
}
