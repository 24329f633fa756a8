export * from "./types.ts";
export * from "./format.ts";
export * from "./infer.ts";
export * from "./explore.ts";
