-- A delegation is recorded by its audit event. The token exchange appends `delegation.created`
-- through the audit trail's group commit, as token issuance does, instead of a transaction of
-- its own that waits for the chain's lock; this trigger inserts the delegation in the same
-- transaction as its event, so there is never one without the other.
CREATE FUNCTION mandate_record_delegation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
AS $$
DECLARE
  v_parent text := NEW.metadata ->> 'parentDelegationId';
  v_revoked timestamptz;
BEGIN
  IF v_parent IS NOT NULL THEN
    -- The share lock orders this against a revocation of the parent: it either sees the new
    -- delegation (and revokes it too) or revoked the parent first, which refuses this one.
    SELECT revoked_at INTO v_revoked FROM delegations WHERE org_id = NEW.org_id AND id = v_parent FOR SHARE;
    IF NOT FOUND OR v_revoked IS NOT NULL THEN
      RAISE EXCEPTION 'delegation % was revoked', v_parent USING ERRCODE = '23M01';
    END IF;
  END IF;
  INSERT INTO delegations (id, org_id, subject_agent_id, actor_agent_id, parent_id, depth, scope, jti, created_at, expires_at)
  VALUES (NEW.target_id, NEW.org_id, NEW.metadata ->> 'subjectAgentId', NEW.metadata ->> 'actorAgentId', v_parent,
          (NEW.metadata ->> 'depth')::integer, NEW.metadata ->> 'scope', NEW.metadata ->> 'jti', NEW.occurred_at,
          to_timestamp((NEW.metadata ->> 'exp')::bigint));
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION mandate_record_delegation() FROM PUBLIC;

CREATE TRIGGER audit_events_record_delegation
  AFTER INSERT ON audit_events
  FOR EACH ROW WHEN (NEW.action = 'delegation.created' AND NEW.outcome = 'success')
  EXECUTE FUNCTION mandate_record_delegation();

-- What an exchange checks before it signs, in one round trip and no transaction: the
-- subject agent's allowed scopes, and whether the subject token's own delegation is revoked.
CREATE FUNCTION mandate_delegation_context(p_org_id text, p_subject_agent_id text, p_parent_id text)
RETURNS TABLE (allowed_scopes text[], parent_revoked boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
AS $$
  SELECT (SELECT a.allowed_scopes FROM agents a WHERE a.org_id = p_org_id AND a.id = p_subject_agent_id),
         CASE WHEN p_parent_id IS NULL THEN NULL
              ELSE NOT EXISTS (SELECT 1 FROM delegations d WHERE d.org_id = p_org_id AND d.id = p_parent_id AND d.revoked_at IS NULL) END
$$;
REVOKE ALL ON FUNCTION mandate_delegation_context(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mandate_delegation_context(text, text, text) TO mandate_app;
