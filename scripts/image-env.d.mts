/** Types of scripts/image-env.mjs. */
export const DOCKERFILE: string;
export function imageEnv(dockerfile?: string): Record<string, string>;
