-- wrk script: each request carries the session cookie of one of several
-- visitors, in turn, as their browsers would send it.
--
--   wrk -s session.lua http://127.0.0.1:8080/ -- "session=..." "session=..."
--
-- The cookies are made beforehand by scaling.py, one session per visitor,
-- so every request reads and writes an existing session in Redis. The
-- requests are formatted once here: wrk's own CPU use stays low, which
-- matters when it shares two cores with everything it measures.

local requests = {}
local position = 1

init = function(args)
  for i, cookie in ipairs(args) do
    requests[i] = wrk.format("GET", nil, { ["Cookie"] = cookie })
  end
  if #requests == 0 then
    requests[1] = wrk.format("GET")
  end
end

request = function()
  local prepared = requests[position]
  position = position % #requests + 1
  return prepared
end
