using System.CommandLine;

namespace Halley.Server;

/// <summary>The <c>halley</c> command line: <c>serve</c> (the default), <c>publish</c>, <c>subscribe</c>.</summary>
internal static class HalleyCommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Halley: a Bayeux (CometD/Faye) Comet server. With no command, runs 'serve'.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        var serve = new Command("serve", "Runs the server. Any --urls or --Halley:Key=value argument goes to the .NET configuration.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        serve.SetAction(ServeAsync);
        root.SetAction(ServeAsync);
        root.Add(serve);
        root.Add(ClientCommands.Publish());
        root.Add(ClientCommands.Subscribe());
        return root;
    }

    private static async Task<int> ServeAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        await using var app = HalleyServerApp.Build([.. parse.UnmatchedTokens]);
        await app.RunAsync(cancellationToken).ConfigureAwait(false);
        return 0;
    }
}
