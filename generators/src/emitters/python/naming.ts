/** Python names for IR names: snake_case members, PascalCase classes, escaped keywords. */
import type { Name } from '../../ir/types';
import { pascal, screamingSnake, snake, words } from '../../ir/naming';

const KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif',
  'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or',
  'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);

/** Attributes of pydantic's BaseModel (and ours) that a field must not shadow. */
export const MODEL_RESERVED = new Set([
  'construct', 'copy', 'dict', 'from_orm', 'json', 'parse_file', 'parse_obj', 'parse_raw', 'schema', 'schema_json',
  'update_forward_refs', 'validate', 'to_wire', 'model_computed_fields', 'model_config', 'model_construct',
  'model_copy', 'model_dump', 'model_dump_json', 'model_extra', 'model_fields', 'model_fields_set',
  'model_json_schema', 'model_parametrized_name', 'model_post_init', 'model_rebuild', 'model_validate',
  'model_validate_json', 'model_validate_strings',
]);

/** Keyword arguments every generated method has; an API parameter must not take these names. */
export const OPTION_NAMES = new Set([
  'self', 'organization', 'idempotency_key', 'last_event_id', 'extra_headers', 'extra_query', 'extra_body', 'timeout',
  'max_retries', 'raw', 'first_page',
]);

/** snake_case, with a trailing `_` when the name is a keyword or in `reserved`. */
export function pyName(name: Name, reserved: ReadonlySet<string> = new Set()): string {
  let result = snake(name);
  if (result === '' || /^[0-9]/.test(result)) result = `v_${result}`;
  while (KEYWORDS.has(result) || reserved.has(result)) result = `${result}_`;
  return result;
}

export const className = (name: Name): string => pascal(name);

/** `createAgent` → `CREATE_AGENT`: the endpoint constant of an operation. */
export const constantName = (identifier: string): string => screamingSnake(words(identifier));

/** An enum member for a wire value: `admin_token` → `ADMIN_TOKEN`, `ES256` → `ES256`. */
export function enumMember(value: string): string {
  const name = screamingSnake(words(value));
  if (name === '') return 'EMPTY';
  return /^[0-9]/.test(name) ? `V_${name}` : name;
}
