export { EXIT_CODES } from './exit-codes';
export type { ExitCode } from './exit-codes';
export { acceptsWork, INITIAL_STATE, transition } from './lifecycle';
export type { Effect, LifecycleEvent, LifecycleState, Phase } from './lifecycle';
export { configOrExit, runService, runnerStopBound } from './run-service';
export type { LifecycleHooks, ProcessPort, RunServiceOptions, Service, ServiceRuntime } from './run-service';
