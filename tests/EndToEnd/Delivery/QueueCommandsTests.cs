using System.Text.Json;
using Portcullis.EndToEnd.Tests.Infrastructure;

namespace Portcullis.EndToEnd.Tests.Delivery;

/// <summary>`portcullis queue list|show|retry|delete` beside a running server whose remote MX answers 450.</summary>
[Collection(DeliveryWorldCollection.Name)]
public sealed class QueueCommandsTests(DeliveryWorld world) : IAsyncLifetime
{
    private ServerInstance _server = null!;

    // A long first retry: only `queue retry` can make the deferred message due again within the test.
    public async Task InitializeAsync() => _server = await ServerInstance.StartAsync(world.DeliveryToml(retryInitial: "1h", retryMax: "2h"));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(int Code, string Out, string Err)> QueueAsync(params string[] args)
    {
        var (code, stdout, stderr) = await PortcullisProcess.RunAsync(["queue", .. args, "--config", _server.ConfigFile]);
        return (code, stdout, stderr);
    }

    private async Task<JsonElement[]> ListAsync()
    {
        var (code, stdout, stderr) = await QueueAsync("list", "--json");
        Assert.True(code == 0, stderr);
        return JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToArray();
    }

    [Fact]
    public async Task A_deferred_message_is_listed_shown_deleted_or_retried_on_demand()
    {
        var keep = "keep " + Guid.NewGuid();
        var drop = "drop " + Guid.NewGuid();
        await DeliveryWorld.SubmitAsync(_server, [DeliveryWorld.Message("later@remote.test", keep), DeliveryWorld.Message("later@remote.test", drop)]);

        // Both are tried once, refused with 450 and wait for their retry an hour away.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement[] listed = [];
        while (DateTime.UtcNow < deadline)
        {
            listed = await ListAsync();
            if (listed.Length == 2 && listed.All(m => m.GetProperty("recipients")[0].GetProperty("attempts").GetInt32() >= 1))
            {
                break;
            }
            await Task.Delay(300);
        }
        Assert.Equal(2, listed.Length);
        foreach (var m in listed)
        {
            var r = m.GetProperty("recipients")[0];
            Assert.Equal("later@remote.test", r.GetProperty("address").GetString());
            Assert.Equal("pending", r.GetProperty("status").GetString());
            Assert.Contains("450 4.2.0", r.GetProperty("last_error").GetString(), StringComparison.Ordinal);
            Assert.Equal("alice@example.test", m.GetProperty("sender").GetString());
        }
        var text = await QueueAsync("list");
        Assert.Contains("<later@remote.test> remote pending attempts=1", text.Out, StringComparison.Ordinal);

        var ids = new Dictionary<string, string>();
        foreach (var m in listed)
        {
            var id = m.GetProperty("id").GetString()!;
            var show = await QueueAsync("show", id);
            Assert.Equal(0, show.Code);
            Assert.Contains("last error: ", show.Out, StringComparison.Ordinal);
            ids[show.Out.Contains(keep, StringComparison.Ordinal) ? "keep" : "drop"] = id;
        }

        var deleted = await QueueAsync("delete", ids["drop"]);
        Assert.Equal(0, deleted.Code);
        Assert.Equal(1, (await QueueAsync("show", ids["drop"])).Code);

        world.Mx.ReleaseTemporaryFailures();
        var before = world.Mx.Messages("later@remote.test").Length;
        var retried = await QueueAsync("retry", ids["keep"]);
        Assert.True(retried.Code == 0, retried.Err);
        var files = await world.Mx.WaitForMessagesAsync("later@remote.test", before + 1, TimeSpan.FromSeconds(10));
        Assert.Contains(files, f => File.ReadAllText(f).Contains(keep, StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => File.ReadAllText(f).Contains(drop, StringComparison.Ordinal));
        Assert.Equal(2, (await QueueAsync("retry", "--all", ids["keep"])).Code);
    }
}
