using System.Diagnostics;
using System.Text.Json.Nodes;
using Halley.FunctionalTests.Infrastructure;

namespace Halley.FunctionalTests;

/// <summary>The <c>halley</c> executable's client commands, run as real processes against a real server.</summary>
public sealed class CommandLineTests
{
    private static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Halley.Server.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return Process.Start(info)!;
    }

    [Theory]
    [InlineData("WebSocket")]
    [InlineData("LongPolling")]
    public async Task Subscribe_PrintsEachMessage_PublishDeliversIt(string transport)
    {
        await using var server = await TestServer.StartAsync();
        var url = server.Bayeux.ToString();
        using var subscriber = Start("subscribe", "/cli/**", "--count", "2", "--url", url, "--transport", transport);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        subscriber.ErrorDataReceived += (_, e) =>
        {
            if (e.Data?.StartsWith("subscribed to", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        var lines = new List<string>();
        subscriber.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (lines)
                {
                    lines.Add(e.Data);
                }
            }
        };
        subscriber.BeginErrorReadLine();
        subscriber.BeginOutputReadLine();
        try
        {
            await ready.Task.Within(TimeSpan.FromSeconds(30));

            foreach (var text in new[] { "first", "second" })
            {
                using var publisher = Start("publish", "/cli/room", $$"""{"text":"{{text}}"}""", "--url", url, "--transport", transport);
                await publisher.WaitForExitAsync().Within(TimeSpan.FromSeconds(30));
                Assert.True(publisher.ExitCode == 0, await publisher.StandardError.ReadToEndAsync());
            }

            await subscriber.WaitForExitAsync().Within(TimeSpan.FromSeconds(30));
            Assert.Equal(0, subscriber.ExitCode);
            var received = lines.Select(l => JsonNode.Parse(l)!).ToList();
            Assert.Equal(["first", "second"], received.Select(m => m["data"]!["text"]!.GetValue<string>()));
            Assert.All(received, m => Assert.Equal("/cli/room", m["channel"]!.GetValue<string>()));
        }
        finally
        {
            if (!subscriber.HasExited)
            {
                subscriber.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Publish_WithInvalidJson_ExitsWithAnError()
    {
        using var publisher = Start("publish", "/cli/room", "{not json", "--url", "http://127.0.0.1:9/cometd");
        await publisher.WaitForExitAsync().Within(TimeSpan.FromSeconds(30));
        Assert.Equal(2, publisher.ExitCode);
        Assert.Contains("not valid JSON", await publisher.StandardError.ReadToEndAsync());
    }
}
