namespace Portcullis.Audit.Smtp.Checks;

/// <summary>Runs a body on a fresh session and always closes it; a lost connection becomes the body's fallback finding.</summary>
internal static class SessionScope
{
    public static async Task<T> RunAsync<T>(SessionOpener opener, bool tls, Transcript t, Func<OpenSession, Task<T>> body, Func<ProbeLostException, T> lost, CancellationToken ct, bool hello = true)
    {
        OpenSession? s = null;
        try
        {
            s = await opener.OpenAsync(t, tls, ct, hello).ConfigureAwait(false);
            return await body(s).ConfigureAwait(false);
        }
        catch (ProbeLostException e)
        {
            return lost(e);
        }
        finally
        {
            if (s is not null)
            {
                await s.Probe.QuitAsync(ct).ConfigureAwait(false);
                await s.Probe.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
