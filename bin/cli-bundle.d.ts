/** The checkout's CLI bundled by esbuild (cli-bundle.js); null when it cannot be built here. */
export function bundledCli(root: string, cache?: string): Promise<URL | null>;
