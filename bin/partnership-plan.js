#!/usr/bin/env node
// The `partnership-plan` command. The code is TypeScript run through tsx, as `npm start` runs it.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
