namespace Halley.Redis;

/// <summary>
/// The Lua scripts of <see cref="RedisMessageEngine"/>. Each runs atomically in Redis (StackExchange.Redis sends it
/// by its SHA1 with EVALSHA once the server knows it, and loads it again after a restart), so a script sees and
/// leaves the keys in one consistent state. Every key a script touches is passed in KEYS: on Redis Cluster they must
/// share a slot (see <see cref="RedisEngineOptions.Prefix"/>).
/// </summary>
/// <remarks>
/// Keys, under the prefix: <c>meta</c> (hash: <c>epoch</c>, <c>seq</c> the one sequence of every channel, <c>cv</c>
/// the version of the channel list, <c>n:{node}</c> each node's delivery counter), <c>channels</c> (hash: each channel that ever kept history → its newest offset),
/// <c>s:{channel}</c> (the channel's stream, ids <c>{offset}-0</c>, fields <c>d</c> the encoded frame and <c>t</c> the
/// publishing node's clock in Unix milliseconds), <c>i:{name or pattern}</c> (set: the nodes that declared interest in
/// it). Pub/sub channels: <c>node:{id}</c>, one per node. Requires Redis 7.0 or newer (XSETID … MAXDELETEDID, the
/// exclusive range <c>(</c> of XRANGE, <c>max-deleted-entry-id</c> of XINFO STREAM).
/// </remarks>
internal static class RedisScripts
{
    /// <summary>
    /// The first step of every script that writes: the epoch of the meta hash (KEYS[1]), or, when Redis has none (it
    /// lost the sequence with it), the new one the node passed as ARGV[1], with the sequence starting again.
    /// </summary>
    /// <remarks>
    /// The last two ARGV of every such script are the calling node's high-water mark: the epoch and offset of its
    /// cursor. A sequence below it in that epoch means Redis went back (a restart that lost the last writes, a
    /// failover to a replica that lagged): the positions between were handed out already, so the script takes the new
    /// epoch and never hands them out again. The sequence goes on from the high-water mark, above every stream id the
    /// node saw, so the streams' ids keep increasing.
    /// </remarks>
    private const string TakeEpoch = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
          epoch = ARGV[1]
          redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
        elseif epoch == ARGV[#ARGV - 1] and tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') < tonumber(ARGV[#ARGV]) then
          epoch = ARGV[1]
          redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', ARGV[#ARGV])
        end

        """;

    /// <summary>
    /// Publishes one message. KEYS: meta, channels, the channel's stream, the idempotency key's key (meta when there is
    /// none), then the interest set of each name and pattern that matches the channel. ARGV: a new epoch (taken only if Redis has none: the sequence was lost), channel,
    /// frame, the rule's size (0: the channel keeps no history), the rule's age in ms, the node's clock in ms, the
    /// prefix of node channels, the publishing node's id, the idempotency key ("" for none), how long to remember it in
    /// ms, the node's high-water mark (epoch, offset). Returns { epoch, offset or "" }, or, without publishing, { epoch,
    /// offset or "", "duplicate" } when the idempotency key was published within its window.
    /// </summary>
    /// <remarks>
    /// Position, history append and PUBLISH in one script: no node receives a message its history lacks. The message
    /// goes once to each node that declared a matching name or pattern (a set union, so a node with both an exact and a
    /// wildcard interest gets it once). A publisher that receives no copy gets a marker with the offset, so its cursor
    /// passes the message in order with the rest of what it receives. Everything published to a node's channel carries
    /// the next number of that node's delivery counter (<c>n:{node}</c> in meta), so the node sees a gap in what it
    /// received, whatever dropped it (a killed subscription connection, a pub/sub output buffer limit).
    /// </remarks>
    public const string Publish = TakeEpoch + """
        if ARGV[9] ~= '' then
          local earlier = redis.call('GET', KEYS[4])
          if earlier then
            local e, o = string.match(earlier, '^(%S+) (%S*)$')
            return { e, o, 'duplicate' }
          end
        end
        local size = tonumber(ARGV[4])
        local offset = ''
        if size > 0 then
          offset = redis.call('HINCRBY', KEYS[1], 'seq', 1)
          local id = offset .. '-0'
          local length = redis.call('XLEN', KEYS[3])
          local evicted = nil
          if length >= size then
            local oldest = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', length - size + 1)
            evicted = oldest[#oldest][1]
          end
          redis.call('XADD', KEYS[3], 'MAXLEN', size, id, 'd', ARGV[3], 't', ARGV[6])
          if evicted then
            redis.call('XSETID', KEYS[3], id, 'MAXDELETEDID', evicted)
          end
          redis.call('PEXPIRE', KEYS[3], ARGV[5])
          if redis.call('HSET', KEYS[2], ARGV[2], offset) == 1 then
            redis.call('HINCRBY', KEYS[1], 'cv', 1)
          end
        end
        local payload = ' ' .. offset .. ' ' .. #ARGV[2] .. ' ' .. ARGV[2] .. ARGV[3]
        local sent = {}
        for i = 5, #KEYS do
          for _, node in ipairs(redis.call('SMEMBERS', KEYS[i])) do
            if not sent[node] then
              sent[node] = true
              redis.call('PUBLISH', ARGV[7] .. node, 'm' .. epoch .. ' ' .. redis.call('HINCRBY', KEYS[1], 'n:' .. node, 1) .. payload)
            end
          end
        end
        if offset ~= '' and not sent[ARGV[8]] then
          redis.call('PUBLISH', ARGV[7] .. ARGV[8], 'k' .. epoch .. ' ' .. redis.call('HINCRBY', KEYS[1], 'n:' .. ARGV[8], 1) .. ' ' .. offset .. ' ')
        end
        if ARGV[9] ~= '' then
          redis.call('SET', KEYS[4], epoch .. ' ' .. offset, 'PX', ARGV[10])
        end
        return { epoch, tostring(offset) }
        """;

    /// <summary>
    /// Declares (<c>add</c>), withdraws (<c>remove</c>) or only marks (<c>none</c>) a node's interest. KEYS: meta, the
    /// interest set. ARGV: a new epoch (taken only if Redis has none or went back), the prefix of node channels, the
    /// node's id, a token, the action, the node's high-water mark (epoch, offset). Publishes to the node's own channel a
    /// marker <c>k{epoch} {n} {seq} {token}</c> and returns { epoch, seq }.
    /// </summary>
    /// <remarks>
    /// The change and the reading of the sequence are one atomic step: a publish before it has an offset at or below
    /// seq and, if it went to this node, was published to its channel before the marker; a publish after it sees the
    /// change. The marker arrives on the node's one subscription in that order, so once it is processed every message
    /// at or below seq that this node should receive has been.
    /// </remarks>
    public const string Mark = TakeEpoch + """
        if ARGV[5] == 'add' then
          redis.call('SADD', KEYS[2], ARGV[3])
        elseif ARGV[5] == 'remove' then
          redis.call('SREM', KEYS[2], ARGV[3])
        end
        local seq = redis.call('HGET', KEYS[1], 'seq')
        local n = redis.call('HINCRBY', KEYS[1], 'n:' .. ARGV[3], 1)
        redis.call('PUBLISH', ARGV[2] .. ARGV[3], 'k' .. epoch .. ' ' .. n .. ' ' .. seq .. ' ' .. ARGV[4])
        return { epoch, seq }
        """;

    /// <summary>The channel list with its version, read together: KEYS meta, channels. Returns { version, { channel, … } }.</summary>
    public const string Channels = """
        return { redis.call('HGET', KEYS[1], 'cv') or '0', redis.call('HKEYS', KEYS[2]) }
        """;

    /// <summary>
    /// Reads history. KEYS: meta, channels, then the streams to read. ARGV: the since epoch ("" for none), the since
    /// offset, the through epoch ("" for none), the through offset, how many entries to take per stream, the node's
    /// clock in ms, the channel list version the caller matched patterns against ("" when it matched none), then per
    /// stream: its channel, its rule's age in ms, the offset through which the reader needs it (-1: up to the newest).
    /// Returns { "none" } when Redis has no epoch, { "retry" } when the channel list changed, else
    /// { "ok", epoch, through, complete, stream1, offset1, frame1, stream2, offset2, frame2, … } (entries of each stream in
    /// order; streamN is the 1-based place of the entry's stream among the streams read).
    /// </summary>
    /// <remarks>
    /// One script, so the read is a snapshot: every message at or below the sequence it reads is in its stream (each
    /// publish appended and numbered in one script), which makes the result a consistent prefix. Messages older than
    /// their rule's age are let go of first (XTRIM, recorded with XSETID … MAXDELETEDID like the count trim of the
    /// publish script), so <c>max-deleted-entry-id</c> is the newest offset a stream let go of, and a reader from
    /// before it is told the read is not complete. A channel whose stream has expired altogether is judged by its
    /// newest offset in the channel list.
    /// </remarks>
    public const string Read = """
        local epoch = redis.call('HGET', KEYS[1], 'epoch')
        if not epoch then
          return { 'none' }
        end
        if ARGV[7] ~= '' and (redis.call('HGET', KEYS[1], 'cv') or '0') ~= ARGV[7] then
          return { 'retry' }
        end
        local through = tonumber(redis.call('HGET', KEYS[1], 'seq'))
        if ARGV[3] == epoch then
          through = math.min(through, tonumber(ARGV[4]))
        end
        local since = 0
        if ARGV[1] ~= '' then
          if ARGV[1] ~= epoch or tonumber(ARGV[2]) > through then
            return { 'ok', epoch, through, 0 }
          end
          since = tonumber(ARGV[2])
        end
        local now = tonumber(ARGV[6])
        local complete = 1
        local out = { 'ok', epoch, through, 0 }
        local function offsetOf(id)
          return tonumber(string.match(id, '^(%d+)'))
        end
        for i = 3, #KEYS do
          local a = 7 + (i - 3) * 3
          local channel, age, need = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
          if need < 0 or need > through then
            need = through
          end
          if need > since then
            if redis.call('EXISTS', KEYS[i]) == 0 then
              local newest = redis.call('HGET', KEYS[2], channel)
              if newest and tonumber(newest) > since then
                complete = 0
              end
            else
              local expired = nil
              local keep = nil
              local from = '-'
              for _ = 1, 16 do
                local batch = redis.call('XRANGE', KEYS[i], from, '+', 'COUNT', 64)
                for _, entry in ipairs(batch) do
                  local fields = entry[2]
                  local t = 0
                  for f = 1, #fields, 2 do
                    if fields[f] == 't' then t = tonumber(fields[f + 1]) end
                  end
                  if now - t >= age then
                    expired = entry[1]
                  else
                    keep = entry[1]
                    break
                  end
                end
                if keep or #batch < 64 then break end
                from = '(' .. batch[#batch][1]
              end
              local info = redis.call('XINFO', 'STREAM', KEYS[i])
              local last, deleted = '0-0', 0
              for f = 1, #info, 2 do
                if info[f] == 'last-generated-id' then last = info[f + 1] end
                if info[f] == 'max-deleted-entry-id' then deleted = offsetOf(info[f + 1]) end
              end
              if expired then
                if keep then
                  redis.call('XTRIM', KEYS[i], 'MINID', keep)
                else
                  redis.call('XTRIM', KEYS[i], 'MAXLEN', 0)
                end
                redis.call('XSETID', KEYS[i], last, 'MAXDELETEDID', expired)
                deleted = math.max(deleted, offsetOf(expired))
              end
              if since < deleted then
                complete = 0
              end
              local entries = redis.call('XRANGE', KEYS[i], '(' .. since .. '-0', need .. '-0', 'COUNT', ARGV[5])
              for _, entry in ipairs(entries) do
                local fields = entry[2]
                for f = 1, #fields, 2 do
                  if fields[f] == 'd' then
                    out[#out + 1] = i - 2
                    out[#out + 1] = offsetOf(entry[1])
                    out[#out + 1] = fields[f + 1]
                  end
                end
              end
              if #entries > 0 then
                local newest = redis.call('XREVRANGE', KEYS[i], through .. '-0', '-', 'COUNT', 1)
                local newestOffset = 0
                if #newest > 0 then
                  newestOffset = offsetOf(newest[1][1])
                elseif deleted <= through then
                  newestOffset = deleted
                end
                if newestOffset > need then
                  complete = 0
                end
              end
            end
          end
        end
        out[4] = complete
        return out
        """;
}
