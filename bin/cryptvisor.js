#!/usr/bin/env node
// The cryptvisor command: runs the compiled CLI (npm install builds it; see README).
import '../dist/src/cli/main.js';
