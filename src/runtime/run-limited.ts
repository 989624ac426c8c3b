/**
Runs `tasks` with at most `limit` at once and returns their results (in the order they finished);
once `signal` aborts, no further task starts.
*/
export async function runLimited<T>(tasks: readonly (() => Promise<T>)[], limit: number, signal?: AbortSignal): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (!signal?.aborted) {
      const task = tasks[next++];
      if (!task) return;
      results.push(await task());
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
