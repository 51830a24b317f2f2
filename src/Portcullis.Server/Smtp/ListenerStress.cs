namespace Portcullis.Server.Smtp;

/// <summary>
/// When a listener counts as flooded. Under a connection flood (many clients, each opening sessions and then
/// sending nothing, or a byte now and then) every slot can be held for the full RFC 5321 §4.5.3.2 timeouts,
/// five minutes per command, while real mail gets 421 at the door. Postfix answers with stress-adaptive
/// behaviour (STRESS_README: smtpd_timeout drops from 300s to 10s when all smtpd processes are busy); so does
/// Portcullis: from <see cref="EnterAt"/> connections on a listener, a client that keeps the server waiting
/// longer than <c>limits.stress_timeout</c>, or sends its message slower than 500 octets/s on average beyond that
/// grace, is disconnected. Stress ends below <see cref="LeaveBelow"/>, half the
/// limit, so that it does not flap around one threshold.
/// </summary>
public readonly record struct ListenerStress(int MaxConnections)
{
    /// <summary>80% of the connection limit, rounded up, at least one.</summary>
    public int EnterAt => Math.Max(1, MaxConnections - MaxConnections / 5);

    public int LeaveBelow => Math.Max(1, MaxConnections / 2);

    public bool Enters(int connections) => connections >= EnterAt;

    public bool Leaves(int connections) => connections < LeaveBelow;

    /// <summary>How often idle sessions are looked at under stress: a quarter of the timeout, between 50 ms and 1 s.</summary>
    public static TimeSpan SweepInterval(TimeSpan stressTimeout) =>
        TimeSpan.FromTicks(Math.Clamp(stressTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(1).Ticks));
}
