/** Benchmark suites of @partita/core, for the harness to gather. */
export { type BenchReport, type BenchRow, runCoreBench, toMarkdown } from "./keyEncoding.ts"
