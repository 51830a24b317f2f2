using System.Collections.Concurrent;

namespace Portcullis.Server.Delivery;

/// <summary>
/// A small set of dedicated threads for blocking durability calls (write + fsync). fsync blocks its
/// thread for milliseconds; run on the .NET thread pool, dozens of them would starve it and the pool would
/// add threads only slowly, so the concurrent fsyncs that let ext4 merge journal commits would not
/// happen. Measured on this machine: thread-pool fsyncs reached about half the rate of 32 concurrent ones
/// (bench/RESULTS.md, "Maildir batch durability").
/// </summary>
internal static class MaildirIoThreads
{
    public const int Count = 32;

    private static readonly BlockingCollection<(Action Work, TaskCompletionSource Done)> Queue = Start();

    /// <summary>Runs <paramref name="work"/> on one of the I/O threads; the task completes (or faults) with it.</summary>
    public static Task Run(Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Queue.Add((work, done));
        return done.Task;
    }

    private static BlockingCollection<(Action, TaskCompletionSource)> Start()
    {
        var queue = new BlockingCollection<(Action, TaskCompletionSource)>();
        for (var i = 0; i < Count; i++)
        {
            new Thread(() =>
            {
                foreach (var (work, done) in queue.GetConsumingEnumerable())
                {
                    try
                    {
                        work();
                        done.SetResult();
                    }
                    catch (Exception e)
                    {
                        done.SetException(e);
                    }
                }
            })
            {
                IsBackground = true,
                Name = "portcullis-maildir-io-" + i,
            }.Start();
        }
        return queue;
    }
}
