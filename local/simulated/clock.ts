/** The simulated account's clock: every simulated service reads the same time. */
export type Clock = () => Date;
