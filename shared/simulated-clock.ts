/**
 * The request header with which the simulator tells a Worker what time it is, in epoch milliseconds,
 * so that weeks of simulated visits can pass through a real Worker in minutes. A Worker honours it
 * only when its SIMULATED_CLOCK var is "allow".
 */
export const SIMULATED_TIME_HEADER = "x-simulated-time";
