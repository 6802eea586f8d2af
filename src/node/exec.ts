/**
 * The node agent's command runner and process checks, which are the project's shared ones
 * (src/sys): `run` never throws for a non-zero exit, `runOk` throws CommandError. Every
 * network-touching command the agent runs names a project-created namespace (`ip netns exec <ns> ...`
 * / `ip -n <ns> ...`); these helpers only spawn, they never decide where traffic goes.
 */
export { run, runOk, type CommandResult as RunResult } from '../sys/command.js';
export { pidAlive, pidStartTime } from '../sys/process.js';
