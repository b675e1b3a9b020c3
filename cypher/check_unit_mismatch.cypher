// Indikator of the given plans whose unit contradicts the name: a count word first ($count_words, e.g.
// 'jumlah') with a percent unit, or a proportion word first ($proportion_words) with only other units.
// Units are the satuan and the units of the targets, compared lower-cased with $percent_units.
// Returns plan, element id, the indikator name, its units and whether one of them is a percent.
UNWIND $plan_ids AS plan_id
MATCH (e:Element {plan: plan_id})-[:MEASURED_BY]->(i)
WITH e, i, toLower(split(trim(i.name), ' ')[0]) AS first,
     [u IN coalesce(i.units, CASE WHEN i.satuan IS NULL THEN [] ELSE [i.satuan] END) WHERE trim(u) <> '' | toLower(trim(u))] AS units
WITH e, i, first, units, size([u IN units WHERE u IN $percent_units]) > 0 AS has_pct
WHERE (first IN $count_words AND has_pct) OR (first IN $proportion_words AND NOT has_pct AND size(units) > 0)
RETURN e.plan AS plan, e.id AS id, i.name AS indikator, units, has_pct
ORDER BY plan, e.seq, i.seq
