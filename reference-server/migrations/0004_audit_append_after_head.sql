-- Group commit of the audit trail in one round trip. The writer remembers each chain's
-- head as it last left it and seals the next events on it; this function appends them
-- only if the head is still there (compare-and-set), all chains of a batch in one
-- statement and so in one commit. A chain whose head moved (another instance or a
-- request's own transaction appended meanwhile) is left untouched and its current head
-- returned, so the writer can seal its events again on that head and retry.
--
-- p_chains: [{"chain", "afterSequence", "afterHash", "events": [events as the server holds them]}]
CREATE FUNCTION mandate_append_audit_events(p_chains jsonb)
RETURNS TABLE (chain text, appended boolean, head_sequence bigint, head_hash text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_group jsonb;
  v_chain text;
  v_after_sequence bigint;
  v_after_hash text;
  v_events jsonb;
  v_count int;
BEGIN
  FOR v_group IN SELECT value FROM jsonb_array_elements(p_chains) LOOP
    v_chain := v_group ->> 'chain';
    v_after_sequence := (v_group ->> 'afterSequence')::bigint;
    v_after_hash := v_group ->> 'afterHash';
    v_events := v_group -> 'events';
    v_count := jsonb_array_length(v_events);

    -- The events must continue the chain exactly: numbered on from the head, each linking
    -- to the previous hash, all of this chain. The writer always sends them so; this keeps
    -- the function from ever breaking a chain.
    IF v_count = 0 OR EXISTS (
      SELECT 1
      FROM (
        SELECT e."orgId", e.sequence, e."prevHash", o.n,
               lag(e.hash, 1, v_after_hash) OVER (ORDER BY o.n) AS previous_hash
        FROM jsonb_array_elements(v_events) WITH ORDINALITY AS o(event, n),
             jsonb_to_record(o.event) AS e("orgId" text, sequence bigint, "prevHash" text, hash text)
      ) linked
      WHERE linked.sequence IS DISTINCT FROM v_after_sequence + linked.n
         OR linked."prevHash" IS DISTINCT FROM linked.previous_hash
         OR coalesce(linked."orgId", 'instance') <> v_chain
    ) THEN
      RAISE EXCEPTION 'audit events for chain % do not continue it from sequence %', v_chain, v_after_sequence;
    END IF;

    -- The row lock taken here serializes appenders; a concurrent one that moved the head
    -- makes this match nothing (READ COMMITTED re-checks the row after the wait).
    UPDATE audit_chain_heads h
    SET sequence = v_after_sequence + v_count, hash = v_events -> (v_count - 1) ->> 'hash'
    WHERE h.chain = v_chain AND h.sequence = v_after_sequence AND h.hash = v_after_hash;

    chain := v_chain;
    appended := FOUND;
    head_sequence := v_after_sequence + v_count;
    head_hash := v_events -> (v_count - 1) ->> 'hash';
    IF NOT appended THEN
      -- A new statement, so a new snapshot: the head as the concurrent appender left it.
      SELECT h.sequence, h.hash INTO head_sequence, head_hash FROM audit_chain_heads h WHERE h.chain = v_chain;
    ELSE
      INSERT INTO audit_events (id, chain, org_id, sequence, action, outcome, actor_type, actor_id, target_type,
                                target_id, ip, user_agent, request_id, occurred_at, metadata, prev_hash, hash)
      SELECT e.id, v_chain, e."orgId", e.sequence, e.action, e.outcome, e."actorType", e."actorId", e."targetType",
             e."targetId", e.ip, e."userAgent", e."requestId", e."occurredAt", e.metadata, e."prevHash", e.hash
      FROM jsonb_to_recordset(v_events) AS e(id text, "orgId" text, sequence bigint, action text, outcome text,
           "actorType" text, "actorId" text, "targetType" text, "targetId" text, ip text, "userAgent" text,
           "requestId" text, "occurredAt" timestamptz, metadata jsonb, "prevHash" text, hash text);
    END IF;
    RETURN NEXT;
  END LOOP;
END
$$;

REVOKE ALL ON FUNCTION mandate_append_audit_events(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_append_audit_events(jsonb) TO mandate_app;
