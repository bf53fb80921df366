package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"
)

// JUnitSuiteName is the name of the one test suite in junit.xml.
const JUnitSuiteName = "fleetbench thresholds"

// WriteJUnit writes the run as JUnit XML (the Ant/Surefire form every CI
// reads): one <testsuite name="fleetbench thresholds"> with one <testcase>
// per threshold, named "<metric> <expr>" (e.g. "publish.p99 < 100ms")
// with the scenario name as classname, and a <failure> stating the
// measured value for each threshold that failed. A run without thresholds
// has one test case, "run completed without errors", which fails when a
// connection attempt failed, a publish failed or missed its send time, a
// message was lost or the run was interrupted (see [Summary.Verdict]).
// The suite's time is the run's length in seconds; properties name the
// run, scenario, target and version. The output is a function of s only.
func WriteJUnit(w io.Writer, s *Summary) error {
	suite := junitSuite{
		Name:      JUnitSuiteName,
		Time:      seconds(runMs(s.Run)),
		Timestamp: timestamp(s.Run.Started),
		Hostname:  s.Run.Hostname,
	}
	for _, p := range []struct{ name, value string }{
		{"run.id", s.Run.ID}, {"scenario", s.Run.Scenario}, {"scenario_file", s.Run.ScenarioFile},
		{"target", s.Run.Target}, {"fleetbench_version", s.Run.FleetbenchVersion},
		{"interrupted", strconv.FormatBool(s.Interrupted)},
	} {
		if p.value != "" {
			suite.Properties = append(suite.Properties, junitProperty{Name: p.name, Value: p.value})
		}
	}
	// Every failed connect and dropped connection, by reason, so a CI page
	// shows why without opening summary.json; only reasons counted.
	for r := range NumFailReasons {
		if n := s.Connect.FailedByReason[r.String()]; n > 0 {
			suite.Properties = append(suite.Properties, junitProperty{Name: "connect." + r.String(), Value: strconv.FormatInt(n, 10)})
		}
	}
	for r := range NumDisconnectReasons {
		if n := s.Connect.DisconnectsByReason[r.String()]; n > 0 {
			suite.Properties = append(suite.Properties, junitProperty{Name: "devices." + r.String(), Value: strconv.FormatInt(n, 10)})
		}
	}
	class := s.Run.Scenario
	if class == "" {
		class = "fleetbench"
	}
	if len(s.Thresholds) == 0 {
		tc := junitCase{Name: NoThresholdsCase, Classname: class}
		if v := s.Verdict(); !v.Passed {
			msg := v.Headline()
			tc.Failure = &junitFailure{Message: msg, Type: "errors", Text: msg}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	for _, th := range s.Thresholds {
		tc := junitCase{Name: th.Metric + " " + th.Expr, Classname: class}
		if !th.Passed {
			msg := ThresholdMessage(th)
			typ := "threshold"
			if th.NoData {
				typ = "no data"
			}
			tc.Failure = &junitFailure{Message: msg, Type: typ, Text: msg}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	for _, tc := range suite.Cases {
		suite.Tests++
		if tc.Failure != nil {
			suite.Failures++
		}
	}
	doc := junitSuites{Name: "fleetbench", Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time,
		Suites: []junitSuite{suite}}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write JUnit XML: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write JUnit XML: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write JUnit XML: %w", err)
	}
	return nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// seconds formats milliseconds as JUnit's decimal seconds.
func seconds(ms float64) string { return strconv.FormatFloat(ms/1000, 'f', 3, 64) }

// timestamp is JUnit's ISO 8601 form without a zone, in UTC.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}
