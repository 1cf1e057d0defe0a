/**
 * A parameterized WHERE clause built from optional filters: each `?` in a condition becomes
 * the placeholder of that condition's value, so values never enter the SQL text.
 */
export class Conditions {
  readonly params: unknown[] = [];
  private readonly clauses: string[] = [];

  /** Adds `condition` with `value` for its `?` (every `?` stands for the same value). */
  add(condition: string, value: unknown): this {
    this.clauses.push(condition.replaceAll('?', this.param(value)));
    return this;
  }

  /** Adds `condition` only when a filter value was given. */
  addIf(condition: string, value: unknown): this {
    return value === undefined ? this : this.add(condition, value);
  }

  /** Registers a value and returns its placeholder, for use outside the WHERE clause. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  sql(): string {
    return this.clauses.join(' AND ');
  }
}
