// One element by uid (its uid, plan, id and level), or no row: to check that it exists.
MATCH (e:Element {plan: split($uid, '/')[0], uid: $uid})
RETURN e.uid AS uid, e.plan AS plan, e.id AS id, e.level AS level
