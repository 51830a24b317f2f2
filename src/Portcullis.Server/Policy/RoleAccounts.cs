namespace Portcullis.Server.Policy;

/// <summary>
/// What the recipient decision needs from the configuration for the role accounts of RFC 5321 §4.5.1 and
/// RFC 2142: the mailbox that receives postmaster@ and abuse@ of every local domain when no such user exists
/// (<c>server.postmaster</c>), and the server's host name (<c>server.hostname</c>), at which those two
/// also exist.
/// </summary>
public sealed record RoleAccounts(string Postmaster, string Hostname);
