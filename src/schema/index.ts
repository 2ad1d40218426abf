/**
 * Schemas of omnicap's request and option shapes (TypeBox, validated with Ajv): one set of ranges
 * for the server, the CLI and the engine, and the source of the OpenAPI document.
 */
export * from './limits';
export { checker, describeSchema, fromFormFields, schemaError, type Checker } from './validate';
export * from './generation';
export * from './llm';
export * from './requests';
export * from './responses';
export * from './annotation';
export * from './annotation-jobs';
