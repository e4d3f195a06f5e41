import { processIo } from './io.js';
import { runCli } from './program.js';

// The SDK warns on every run under Node 20 about SDK releases of 2027; this project pins its SDK version and
// supports Node 20.19+, so the warning is noise around output that scripts parse. Set the variable to "false"
// to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// The exit code is set rather than process.exit() called, so buffered stdout (a large --format json) is flushed.
process.exitCode = await runCli(process.argv.slice(2), { io: processIo() });
