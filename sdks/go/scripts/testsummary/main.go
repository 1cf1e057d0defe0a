// Command testsummary reads `go test -json` events on stdin and prints the failures, the
// conformance runner's summary lines, and a last line `sdk-go: N passed, M failed` counting
// tests and subtests. A package that failed without a failing test (a build error, a panic
// outside a test) counts as one failure, as does each -extra-failures (lint steps).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	extra := flag.Int("extra-failures", 0, "failures to add (e.g. lint steps)")
	prefix := flag.String("name", "sdk-go", "the label of the last line")
	flag.Parse()

	results := map[string]string{}       // package/test -> pass, fail or skip
	packageResult := map[string]string{} // package -> pass or fail
	failedInPackage := map[string]int{}
	output := map[string][]string{}
	var notes []string

	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for scanner.Scan() {
		var e event
		if json.Unmarshal(scanner.Bytes(), &e) != nil {
			continue // go test prints build errors as plain text
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			output[key] = append(output[key], e.Output)
			if line := strings.TrimSpace(e.Output); strings.HasPrefix(line, "conformance:") || strings.HasPrefix(line, "FAIL ") && e.Test != "" {
				notes = append(notes, line)
			}
		case "pass", "fail", "skip":
			if e.Test == "" {
				packageResult[e.Package] = e.Action
				continue
			}
			results[key] = e.Action
			if e.Action == "fail" {
				failedInPackage[e.Package]++
			}
		}
	}

	passed, failed, skipped := 0, *extra, 0
	var failures []string
	for key, result := range results {
		switch result {
		case "pass":
			passed++
		case "skip":
			skipped++
		case "fail":
			failed++
			failures = append(failures, key)
		}
	}
	for pkg, result := range packageResult {
		if result == "fail" && failedInPackage[pkg] == 0 {
			failed++
			failures = append(failures, pkg+" (package)")
		}
	}
	sort.Strings(failures)
	for _, key := range failures {
		fmt.Printf("--- FAIL: %s\n", key)
		for _, line := range output[key] {
			if trimmed := strings.TrimSpace(line); trimmed != "" && !strings.HasPrefix(trimmed, "=== ") {
				fmt.Printf("    %s\n", trimmed)
			}
		}
	}
	for _, note := range notes {
		fmt.Println(note)
	}
	fmt.Printf("%s: %d skipped\n", *prefix, skipped)
	fmt.Printf("%s: %d passed, %d failed\n", *prefix, passed, failed)
}
