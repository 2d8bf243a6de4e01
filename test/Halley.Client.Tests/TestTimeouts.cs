namespace Halley.Client.Tests;

/// <summary>Every await in these tests has a deadline, so a hang fails fast instead of stalling the run.</summary>
internal static class TestTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(15);

    public static Task WithTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    public static Task<T> WithTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    public static CancellationToken Token(TimeSpan? timeout = null) => new CancellationTokenSource(timeout ?? Default).Token;
}
