import type { ValidateFunction } from 'ajv';

/** Validator by schema file (relative to schemas/), e.g. `core/v1/service.json`. */
export declare const validators: Readonly<Record<string, ValidateFunction>>;
