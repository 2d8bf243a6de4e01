dotnet build bench/Halley.BenchReport/bench.slnx -c Release --artifacts-path artifacts/bench -v quiet -clp:ErrorsOnly -nologo
