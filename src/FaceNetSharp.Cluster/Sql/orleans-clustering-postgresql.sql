-- Orleans' ADO.NET membership tables for PostgreSQL, for Microsoft.Orleans.Clustering.AdoNet 10.4.2 exactly.
-- The package reads its SQL from the table OrleansQuery by key; 10.4.2 asks for these ten keys (read from the
-- package's Orleans.Clustering.AdoNet.dll): GatewaysQueryKey, MembershipReadRowKey, MembershipReadAllKey,
-- InsertMembershipVersionKey, UpdateIAmAlivetimeKey, InsertMembershipKey, UpdateMembershipKey,
-- DeleteMembershipTableEntriesKey, CleanupDefunctSiloEntriesKey, CleanupDefunctSiloEntryKey, and binds the
-- parameters @DeploymentId @Address @Port @Generation @SiloName @HostName @Status @ProxyPort @SuspectTimes
-- @StartTime @IAmAliveTime @Version (no MetadataJson: that column comes with a later Orleans).
-- The semantics follow Orleans' own PostgreSQL scripts of that release (PostgreSQL-Main.sql, PostgreSQL-Clustering.sql
-- and the "atomic writes" migration): an insert or update of a silo row succeeds only when it also moves the table
-- version on from the version the caller read, and returns 1, else 0.
-- Idempotent: every silo and client applies it at start-up (under an advisory lock, see ClusterSchema).

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey varchar(64) NOT NULL,
    QueryText varchar(8000) NOT NULL,
    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp timestamptz(3) NOT NULL DEFAULT now(),
    Version integer NOT NULL DEFAULT 0,
    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY (DeploymentId)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address varchar(45) NOT NULL,
    Port integer NOT NULL,
    Generation integer NOT NULL,
    SiloName varchar(150) NOT NULL,
    HostName varchar(150) NOT NULL,
    Status integer NOT NULL,
    ProxyPort integer NULL,
    SuspectTimes varchar(8000) NULL,
    StartTime timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId
        FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- A silo's heartbeat: never moves IAmAliveTime backwards.
CREATE OR REPLACE FUNCTION update_i_am_alive_time(
    deployment_id OrleansMembershipTable.DeploymentId%TYPE,
    address_arg OrleansMembershipTable.Address%TYPE,
    port_arg OrleansMembershipTable.Port%TYPE,
    generation_arg OrleansMembershipTable.Generation%TYPE,
    i_am_alive_time OrleansMembershipTable.IAmAliveTime%TYPE)
  RETURNS void AS
$func$
BEGIN
    UPDATE OrleansMembershipTable AS d
    SET IAmAliveTime = GREATEST(d.IAmAliveTime, i_am_alive_time)
    WHERE d.DeploymentId = deployment_id AND deployment_id IS NOT NULL
      AND d.Address = address_arg AND address_arg IS NOT NULL
      AND d.Port = port_arg AND port_arg IS NOT NULL
      AND d.Generation = generation_arg AND generation_arg IS NOT NULL;
END
$func$ LANGUAGE plpgsql;

-- The version row of a deployment: 1 when this call created it, 0 when it was there.
CREATE OR REPLACE FUNCTION insert_membership_version(
    DeploymentIdArg OrleansMembershipTable.DeploymentId%TYPE)
  RETURNS TABLE(row_count integer) AS
$func$
DECLARE n int := 0;
BEGIN
    INSERT INTO OrleansMembershipVersionTable (DeploymentId) SELECT DeploymentIdArg
    ON CONFLICT (DeploymentId) DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN QUERY SELECT n;
END
$func$ LANGUAGE plpgsql;

-- A new silo row, only if the table version is still VersionArg (then it moves on by one); 1 on success, else 0
-- with nothing changed.
CREATE OR REPLACE FUNCTION insert_membership(
    DeploymentIdArg OrleansMembershipTable.DeploymentId%TYPE,
    AddressArg      OrleansMembershipTable.Address%TYPE,
    PortArg         OrleansMembershipTable.Port%TYPE,
    GenerationArg   OrleansMembershipTable.Generation%TYPE,
    SiloNameArg     OrleansMembershipTable.SiloName%TYPE,
    HostNameArg     OrleansMembershipTable.HostName%TYPE,
    StatusArg       OrleansMembershipTable.Status%TYPE,
    ProxyPortArg    OrleansMembershipTable.ProxyPort%TYPE,
    StartTimeArg    OrleansMembershipTable.StartTime%TYPE,
    IAmAliveTimeArg OrleansMembershipTable.IAmAliveTime%TYPE,
    VersionArg      OrleansMembershipVersionTable.Version%TYPE)
  RETURNS TABLE(row_count integer) AS
$func$
DECLARE n int := 0;
BEGIN
    BEGIN
        UPDATE OrleansMembershipVersionTable
        SET Timestamp = now(), Version = Version + 1
        WHERE DeploymentId = DeploymentIdArg AND DeploymentIdArg IS NOT NULL
          AND Version = VersionArg AND VersionArg IS NOT NULL AND Version < 2147483647;
        GET DIAGNOSTICS n = ROW_COUNT;

        INSERT INTO OrleansMembershipTable
            (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
        SELECT DeploymentIdArg, AddressArg, PortArg, GenerationArg, SiloNameArg, HostNameArg, StatusArg, ProxyPortArg,
               StartTimeArg, IAmAliveTimeArg
        WHERE n > 0
        ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;

        IF n = 0 THEN
            RAISE EXCEPTION 'version moved or row exists' USING ERRCODE = 'assert_failure';
        END IF;
        RETURN QUERY SELECT n;
    EXCEPTION WHEN assert_failure THEN
        -- the block's changes (the version bump) are rolled back
        RETURN QUERY SELECT 0;
    END;
END
$func$ LANGUAGE plpgsql;

-- A silo row's status and suspicions, only if the table version is still VersionArg; 1 on success, else 0.
CREATE OR REPLACE FUNCTION update_membership(
    DeploymentIdArg OrleansMembershipTable.DeploymentId%TYPE,
    AddressArg      OrleansMembershipTable.Address%TYPE,
    PortArg         OrleansMembershipTable.Port%TYPE,
    GenerationArg   OrleansMembershipTable.Generation%TYPE,
    StatusArg       OrleansMembershipTable.Status%TYPE,
    SuspectTimesArg OrleansMembershipTable.SuspectTimes%TYPE,
    IAmAliveTimeArg OrleansMembershipTable.IAmAliveTime%TYPE,
    VersionArg      OrleansMembershipVersionTable.Version%TYPE)
  RETURNS TABLE(row_count integer) AS
$func$
DECLARE n int := 0;
BEGIN
    BEGIN
        UPDATE OrleansMembershipVersionTable
        SET Timestamp = now(), Version = Version + 1
        WHERE DeploymentId = DeploymentIdArg AND DeploymentIdArg IS NOT NULL
          AND Version = VersionArg AND VersionArg IS NOT NULL AND Version < 2147483647;
        GET DIAGNOSTICS n = ROW_COUNT;

        UPDATE OrleansMembershipTable
        SET Status = StatusArg, SuspectTimes = SuspectTimesArg, IAmAliveTime = GREATEST(IAmAliveTime, IAmAliveTimeArg)
        WHERE DeploymentId = DeploymentIdArg AND DeploymentIdArg IS NOT NULL
          AND Address = AddressArg AND AddressArg IS NOT NULL
          AND Port = PortArg AND PortArg IS NOT NULL
          AND Generation = GenerationArg AND GenerationArg IS NOT NULL
          AND n > 0;
        GET DIAGNOSTICS n = ROW_COUNT;

        IF n = 0 THEN
            RAISE EXCEPTION 'version moved or no such row' USING ERRCODE = 'assert_failure';
        END IF;
        RETURN QUERY SELECT n;
    EXCEPTION WHEN assert_failure THEN
        RETURN QUERY SELECT 0;
    END;
END
$func$ LANGUAGE plpgsql;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('UpdateIAmAlivetimeKey',
 'SELECT * FROM update_i_am_alive_time(@DeploymentId, @Address, @Port, @Generation, @IAmAliveTime);'),
('InsertMembershipVersionKey',
 'SELECT * FROM insert_membership_version(@DeploymentId);'),
('InsertMembershipKey',
 'SELECT * FROM insert_membership(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
      @ProxyPort, @StartTime, @IAmAliveTime, @Version);'),
('UpdateMembershipKey',
 'SELECT * FROM update_membership(@DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes,
      @IAmAliveTime, @Version);'),
('MembershipReadRowKey',
 'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
         m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable v
  LEFT OUTER JOIN OrleansMembershipTable m ON v.DeploymentId = m.DeploymentId
      AND Address = @Address AND @Address IS NOT NULL
      AND Port = @Port AND @Port IS NOT NULL
      AND Generation = @Generation AND @Generation IS NOT NULL
  WHERE v.DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;'),
('MembershipReadAllKey',
 'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
         m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable v
  LEFT OUTER JOIN OrleansMembershipTable m ON v.DeploymentId = m.DeploymentId
  WHERE v.DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;'),
('DeleteMembershipTableEntriesKey',
 'DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;
  DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;'),
('GatewaysQueryKey',
 'SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
  WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL
    AND Status = @Status AND @Status IS NOT NULL AND ProxyPort > 0;'),
-- Status 6 is Dead (Orleans.Runtime.SiloStatus).
('CleanupDefunctSiloEntriesKey',
 'DELETE FROM OrleansMembershipTable
  WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL
    AND IAmAliveTime < @IAmAliveTime AND StartTime < @IAmAliveTime
    AND COALESCE(SuspectTimes, '''') = '''' AND Status = 6;'),
('CleanupDefunctSiloEntryKey',
 'DELETE FROM OrleansMembershipTable
  WHERE DeploymentId = @DeploymentId AND Status = 6
    AND Address = @Address AND Port = @Port AND Generation = @Generation
    AND IAmAliveTime = @IAmAliveTime AND StartTime = @StartTime
    AND COALESCE(SuspectTimes, '''') = COALESCE(@SuspectTimes, '''');')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
