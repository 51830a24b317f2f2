namespace Portcullis.Server.Delivery;

/// <summary>
/// A small set of dedicated threads for blocking durability calls (write + fsync). fsync blocks its
/// thread for milliseconds; run on the .NET thread pool, dozens of them would starve it and the pool would
/// add threads only slowly, so the concurrent fsyncs that let ext4 merge journal commits would not
/// happen. Measured on this machine: thread-pool fsyncs reached about half the rate of 32 concurrent ones
/// (bench/RESULTS.md, "Maildir batch durability").
/// Idle threads block in Monitor.Wait, which does not spin: BlockingCollection's SemaphoreSlim spun with
/// sched_yield after every hand-off, and perf showed 10% of the server's CPU in that spinning during an
/// inbound flood.
/// </summary>
internal static class MaildirIoThreads
{
    public const int Count = 32;

    private static readonly Queue<(Action Work, TaskCompletionSource Done)> Waiting = new();
    private static readonly object Gate = new(); // an object, not a Lock: Monitor.Wait and Pulse need a monitor
    private static int _started;

    /// <summary>Runs <paramref name="work"/> on one of the I/O threads; the task completes (or faults) with it.</summary>
    public static Task Run(Action work)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            Start();
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate)
        {
            Waiting.Enqueue((work, done));
            Monitor.Pulse(Gate);
        }
        return done.Task;
    }

    private static void Start()
    {
        for (var i = 0; i < Count; i++)
        {
            new Thread(Serve)
            {
                IsBackground = true,
                Name = "portcullis-maildir-io-" + i,
            }.Start();
        }
    }

    private static void Serve()
    {
        while (true)
        {
            (Action Work, TaskCompletionSource Done) next;
            lock (Gate)
            {
                while (Waiting.Count == 0)
                {
                    Monitor.Wait(Gate);
                }
                next = Waiting.Dequeue();
            }
            try
            {
                next.Work();
                next.Done.SetResult();
            }
            catch (Exception e)
            {
                next.Done.SetException(e);
            }
        }
    }
}
