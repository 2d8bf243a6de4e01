dotnet build bench/Halley.BenchReport/bench.slnx -c Release --artifacts-path artifacts/bench -v quiet -clp:ErrorsOnly -nologo
(cd bench/peers/faye && npm ci --no-audit --no-fund)
