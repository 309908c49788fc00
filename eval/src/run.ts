import { runEval } from './main.ts';

process.exitCode = await runEval(process.argv.slice(2), process.env);
