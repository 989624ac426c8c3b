/**
The part of a server error message (or error code) that may decide an error's kind.

Thalassa's error body is `{"message": "..."}` with no documented code, so within one status the
kind comes from key phrases. Matching is case-insensitive and ignores what a user chose: Thalassa
echoes secret paths, key names and scope names in its messages, and a secret at
`/app/feature-flags`, a key named `kms_path` or a project called `policy-team` must not turn an IAM
denial into "feature disabled" or a base64 error into "KMS key disabled". So before matching:

- every value the request itself carried (the region, organisation and project, the secret path,
  the KMS key) is removed where it stands as a whole word, whatever its case;
- quoted text (double quotes, backticks, and single quotes that open and close a word) is removed;
- path-like tokens (a `/` not preceded by a word character) and numbers are removed;
- the rest is lower-cased, with `_`, `-` and runs of white space turned into one space.
*/
export function classifiableText(serverMessage: string | undefined, requestValues: readonly string[] = []): string {
  let text = serverMessage ?? '';
  // Longest first, so that a value containing another one is removed whole.
  for (const value of [...requestValues].filter((v) => v.length >= 2).sort((a, b) => b.length - a.length)) {
    text = text.replace(new RegExp(`(?<![A-Za-z0-9])${escapeRegExp(value)}(?![A-Za-z0-9])`, 'gi'), ' ');
  }
  return text
    .replace(/"[^"]*"|`[^`]*`|(?<!\w)'[^']*'(?!\w)/g, ' ')
    .replace(/(?<![\w/])\/[A-Za-z0-9/_.+-]*/g, ' ')
    .replace(/\b\d+\b/g, ' ')
    .toLowerCase()
    .replace(/[_\s-]+/g, ' ')
    .trim();
}

/**
A machine-readable error code as words: `SECRET_NOT_FOUND`, `secretNotFound`, `secret-not-found` and
`secret.not_found` all read `secret not found`, to be matched by the same phrases as a message.
*/
export function codeText(code: string | undefined, requestValues: readonly string[] = []): string {
  if (code === undefined) return '';
  return classifiableText(code.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[._:]/g, ' '), requestValues);
}

/** Phrases that say something is missing, after the thing: "secret not found", "region does not exist". */
const missingAfter =
  /\b(?:not found|not be found|does not exist|doesn't exist|do not exist|don't exist|no longer exists?|is missing|are missing|was deleted|has been deleted|is gone|not exist)\b/;
/** Phrases that say something is missing, before the thing: "no such secret", "unknown region". */
const missingBefore = /\b(?:no such|unknown|missing|cannot find|can't find|could not find|couldn't find|unable to find|no)\s+((?:[a-z]+\s+){0,2}[a-z]+)/;
/** Words that say nothing about what is missing. */
const fillers = new Set(['the', 'a', 'an', 'is', 'was', 'are', 'has', 'been', 'requested', 'given', 'specified', 'could', 'can', 'cannot', 'be', 'any', 'this', 'that', 'of', 'with', 'at']);

/**
What a "not found" message says is missing: the words just before "not found" (or "does not
exist", ...) in the same clause, or the words just after "no such" (or "unknown", ...). Undefined
when the text names nothing (a bare `Not Found`), so that the caller can refuse to guess.
*/
export function missingSubject(text: string): string | undefined {
  const after = missingAfter.exec(text);
  if (after) {
    const clause = text.slice(0, after.index).split(/[.;:,()[\]]/).at(-1) ?? '';
    const words = clause.split(/[^a-z']+/).filter((w) => w !== '' && !fillers.has(w));
    // "kms key not found" names two words, "the secret version could not be found" two too.
    if (words.length > 0) return words.slice(-3).join(' ');
    // "Not found: secret ..." names it after the phrase.
    const following = /^[\s:,-]*([a-z]+(?:\s+[a-z]+)?)/.exec(text.slice(after.index + after[0].length));
    if (following?.[1]) return following[1];
  }
  return missingBefore.exec(text)?.[1];
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
