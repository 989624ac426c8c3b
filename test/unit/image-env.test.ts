import { describe, expect, it } from 'vitest';
import { imageEnvironment } from '../../bench/image-env.ts';

describe('the image environment the bench runs the operator with', () => {
  it("is the last stage's ENV, continuation lines and comments included", () => {
    const dockerfile = ['FROM base AS build', 'ENV BUILD_ONLY=1', 'FROM runtime', 'ENV A=1', '# a comment', 'ENV B=2 \\', '    C="x y"', 'ENV D old form', 'USER 1'].join('\n');
    expect(imageEnvironment(dockerfile)).toEqual({ A: '1', B: '2', C: 'x y', D: 'old form' });
  });

  it("holds the project Dockerfile's malloc settings", () => {
    expect(imageEnvironment()).toMatchObject({ NODE_ENV: 'production', MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' });
  });
});
