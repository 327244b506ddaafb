/**
 * @partita/harness — load generation (open and closed loop, no coordinated omission), measurement
 * (HdrHistogram per operation and per interval), traces, experiment suites and reports.
 */
export { closedLoop, type Issue, type LoadBounds, type LoadClock, openLoop } from "./loadgen.ts"
export { type IntervalSample, type LatencySummary, type Outcome, Recorder } from "./measure.ts"
export { Progress } from "./progress.ts"
export {
  type Chart,
  type RunReport,
  type Table,
  renderMarkdown,
  validateReport,
  writeReport,
} from "./report.ts"
export { renderHtml } from "./html.ts"
export { runSuite, type Suite, type SuiteContext, type SuiteOutput } from "./suite.ts"
export {
  decodeTrace,
  encodeTrace,
  importCsv,
  readTrace,
  replayStarts,
  type TraceEntry,
  writeTrace,
} from "./trace.ts"
export { type Target, type TargetRequest, TARGETS } from "./targets.ts"
