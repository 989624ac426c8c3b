/** The one error a template can fail with: its name, Go's line:column, and why. Never a value. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  /** The template's name (the Secret key it renders). */
  readonly template: string;
  /** 1-based line, as Go's messages count. */
  readonly line: number;
  /** Byte offset in the line, 0-based, as Go's messages count. */
  readonly column: number;
  /** The message without the location. */
  readonly reason: string;

  constructor(template: string, line: number, column: number, reason: string) {
    super(`template ${JSON.stringify(template)} ${line}:${column}: ${reason}`);
    this.template = template;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}

/**
Thrown by a function: the engine reports it as `error calling NAME: message`, as Go does. The
message must never contain a value.
*/
export class FuncError extends Error {
  override name = 'FuncError';
}

export interface Limits {
  /** Evaluation steps (actions, commands, printed values) a render may take. */
  readonly maxSteps: number;
  /** Bytes a render may output: a Secret holds at most 1 MiB. */
  readonly maxOutputBytes: number;
  /** Bytes any one value (a function's result) may have. */
  readonly maxValueBytes: number;
  /** Nested {{template}} calls (Go allows 100000; JavaScript's stack is smaller). */
  readonly maxTemplateDepth: number;
}

export const defaultLimits: Limits = {
  maxSteps: 1_000_000,
  maxOutputBytes: 1024 * 1024,
  maxValueBytes: 1024 * 1024,
  maxTemplateDepth: 100,
};
