using Halley.Server;

return await HalleyCommandLine.Create().Parse(args).InvokeAsync().ConfigureAwait(false);
