/** Time as a dependency: Lambda steps use the wall clock, the local run a simulated one. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
