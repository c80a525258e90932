/** The repo's tools and benches parse their arguments as the package's CLI does (src/cli/args.ts). */
export * from '../../src/cli/args.js';
