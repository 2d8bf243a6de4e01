namespace Halley.Sessions;

/// <summary>
/// Answers a service channel request. The returned value is serialized with System.Text.Json into the reply's
/// <c>data</c>; throwing fails the call with a <c>500</c> Bayeux error (the exception is logged, not sent).
/// </summary>
public delegate ValueTask<object?> BayeuxServiceHandler(BayeuxServiceCall call, CancellationToken cancellationToken);
