/** Real faults for tests: a Postgres that goes away, a network that fails, a disk that fills. */
export * from "./pg-cluster.ts";
export * from "./small-disk.ts";
export * from "./tcp-proxy.ts";
