/** The subset of OpenAPI 3.1 the builder reads; anything else in the document is ignored. */
import type { Constraints } from './types';

export interface Reference {
  $ref: string;
}

/** A schema; its validation keywords are the IR's constraints, read as they are. */
export interface Schema extends Constraints {
  $ref?: string;
  type?: string | string[];
  format?: string;
  /** JSON Schema's media type of a string's content (a binary body: `application/zip`). */
  contentMediaType?: string;
  /** How a string's content is encoded (`base64`); absent for raw bytes. */
  contentEncoding?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  readOnly?: boolean;
  writeOnly?: boolean;
  deprecated?: boolean;
  minProperties?: number;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  description?: string;
  schema?: Schema;
}

export interface MediaType {
  schema?: Schema;
  /** On `text/event-stream`: a pointer (`#/components/schemas/…`) to the schema of each event's `data:` (JSON). */
  'x-sse-data'?: string;
}

export interface ResponseObject {
  description?: string;
  content?: Record<string, MediaType>;
}

export interface RequestBodyObject {
  required?: boolean;
  content: Record<string, MediaType>;
}

export type SecurityRequirement = Record<string, string[]>;

export interface OperationObject {
  operationId?: string;
  tags?: string[];
  summary?: string;
  description?: string;
  deprecated?: boolean;
  parameters?: (ParameterObject | Reference)[];
  requestBody?: RequestBodyObject | Reference;
  responses: Record<string, ResponseObject | Reference>;
  security?: SecurityRequirement[];
  'x-sdk-method'?: string;
}

export type PathItem = Partial<Record<HttpMethod, OperationObject>> & {
  parameters?: (ParameterObject | Reference)[];
};

export const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface SecurityScheme {
  type: 'http' | 'oauth2' | 'apiKey' | 'openIdConnect' | 'mutualTLS';
  scheme?: string;
  in?: 'query' | 'header' | 'cookie';
  name?: string;
  flows?: { clientCredentials?: { tokenUrl: string; scopes: Record<string, string> } };
  'x-mandate-scopes'?: Record<string, string>;
}

export interface Document {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers?: { url: string }[];
  tags?: { name: string; description?: string; 'x-sdk-resource'?: string }[];
  security?: SecurityRequirement[];
  paths: Record<string, PathItem>;
  components?: {
    schemas?: Record<string, Schema>;
    parameters?: Record<string, ParameterObject>;
    responses?: Record<string, ResponseObject>;
    requestBodies?: Record<string, RequestBodyObject>;
    securitySchemes?: Record<string, SecurityScheme>;
  };
}
