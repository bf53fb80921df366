// Package htmlreport renders a run's [report.Summary] as one self-contained
// HTML page (report.html): verdict, thresholds, latency percentile spectrum,
// rates and p99 over time, connect ramp and error breakdown, with every
// plot drawn by gonum.org/v1/plot as inline SVG. The page needs no network
// and no script: it references no URL, font file or stylesheet outside
// itself, so it opens offline and can be archived as a CI artifact.
//
// Every function is safe for concurrent use; output depends only on the
// summary, so the same summary always gives the same page.
package htmlreport
