#!/usr/bin/env node
// The package's command line: `router-retriever index ...` (source: src/cli/main.ts, built into dist/lib/cli.js).
import { main } from '../dist/lib/cli.js';

process.exitCode = await main(process.argv.slice(2));
