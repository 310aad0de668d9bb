/**
 * What a failure says, for people: a Step Functions Catch of a failed Lambda invocation gets as `Cause` the JSON the
 * Lambda runtime builds from the error (`{"errorType":…,"errorMessage":…,"trace":[…]}`: aws-lambda-nodejs-runtime-
 * interface-client, src/utils/error.ts `formatError`; https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html).
 * Other causes are plain text (an unhealthy verdict, `States.Timeout`) or a sentence around a JSON payload (a timeout
 * reported as `Lambda.Unknown`: "… Returned payload: {"errorMessage":"… Task timed out after 30.00 seconds"}").
 * Ledger reasons, alerts and Fail causes carry the error's message, never that JSON or its stack trace.
 */

/** A Cause that is a Lambda error's JSON → its `errorMessage`; anything else → undefined. */
export function errorMessageOf(cause: string): string | undefined {
  const error = runtimeError(cause);
  return error?.errorMessage || undefined;
}

/**
 * `text` with every Lambda error JSON in it (whole, or inside a sentence that States.Format built around a Cause)
 * replaced by `<errorType>: <errorMessage>` (the message alone when it already names the type, or there is no type).
 */
export function withoutRuntimeErrorJson(text: string): string {
  let result = '';
  let from = 0;
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    if (start < from) continue;
    const found = runtimeErrorAt(text, start);
    if (!found) continue;
    result += text.slice(from, start) + describe(found.error);
    from = found.end;
  }
  return result + text.slice(from);
}

/**
 * The runtime's JSON has its keys in this order (formatError). aws-local-stepfunctions' States.Format drops the
 * backslashes of the JSON it embeds, which leaves it unparseable; this reads that shape too.
 */
const UNESCAPED_RUNTIME_ERROR = /^\{"errorType":"([^"]*)","errorMessage":"([\s\S]*?)","trace":\[[\s\S]*?"\]\}/;

function runtimeErrorAt(text: string, start: number): { error: RuntimeError; end: number } | undefined {
  const end = endOfJsonObject(text, start);
  const error = end === undefined ? undefined : runtimeError(text.slice(start, end));
  if (error && end !== undefined) return { error, end };
  const loose = UNESCAPED_RUNTIME_ERROR.exec(text.slice(start));
  if (!loose) return undefined;
  return { error: { errorType: loose[1] || undefined, errorMessage: loose[2] }, end: start + loose[0].length };
}

interface RuntimeError {
  errorType?: string;
  errorMessage: string;
}

function runtimeError(json: string): RuntimeError | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const { errorType, errorMessage } = (parsed ?? {}) as { errorType?: unknown; errorMessage?: unknown };
  if (typeof parsed !== 'object' || Array.isArray(parsed) || typeof errorMessage !== 'string') return undefined;
  return { errorType: typeof errorType === 'string' && errorType !== '' ? errorType : undefined, errorMessage };
}

function describe({ errorType, errorMessage }: RuntimeError): string {
  if (!errorType || errorMessage.startsWith(errorType)) return errorMessage;
  return errorMessage ? `${errorType}: ${errorMessage}` : errorType;
}

/** The index just past the JSON object that starts at `start` (braces balanced outside strings), or undefined. */
function endOfJsonObject(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{') {
      depth++;
    } else if (c === '}' && --depth === 0) {
      return i + 1;
    }
  }
  return undefined;
}
